// Placeholder until the owning area lands; see the issue that covers `seat demo`.
import { type Command, UserError, ExitCode } from "../command";

const command: Command = {
  name: "demo",
  summary: "(not built yet)",
  usage: "",
  options: {},
  async run() {
    throw new UserError("'seat demo' is not built yet", ExitCode.failed);
  },
};
export default command;
