// Placeholder until the owning area lands; see the issue that covers `seat eval`.
import { type Command, UserError, ExitCode } from "../command";

const command: Command = {
  name: "eval",
  summary: "(not built yet)",
  usage: "",
  options: {},
  async run() {
    throw new UserError("'seat eval' is not built yet", ExitCode.failed);
  },
};
export default command;
