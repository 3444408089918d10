// Placeholder until the owning area lands; see the issue that covers `seat convert`.
import { type Command, UserError, ExitCode } from "../command";

const command: Command = {
  name: "convert",
  summary: "(not built yet)",
  usage: "",
  options: {},
  async run() {
    throw new UserError("'seat convert' is not built yet", ExitCode.failed);
  },
};
export default command;
