// Placeholder until the owning area lands; see the issue that covers `seat export`.
import { type Command, UserError, ExitCode } from "../command";

const command: Command = {
  name: "export",
  summary: "(not built yet)",
  usage: "",
  options: {},
  async run() {
    throw new UserError("'seat export' is not built yet", ExitCode.failed);
  },
};
export default command;
