// Placeholder until the owning area lands; see the issue that covers `seat validate`.
import { type Command, UserError, ExitCode } from "../command";

const command: Command = {
  name: "validate",
  summary: "(not built yet)",
  usage: "",
  options: {},
  async run() {
    throw new UserError("'seat validate' is not built yet", ExitCode.failed);
  },
};
export default command;
