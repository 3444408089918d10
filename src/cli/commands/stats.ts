// Placeholder until the owning area lands; see the issue that covers `seat stats`.
import { type Command, UserError, ExitCode } from "../command";

const command: Command = {
  name: "stats",
  summary: "(not built yet)",
  usage: "",
  options: {},
  async run() {
    throw new UserError("'seat stats' is not built yet", ExitCode.failed);
  },
};
export default command;
