// Placeholder until the owning area lands; see the issue that covers `seat resume`.
import { type Command, UserError, ExitCode } from "../command";

const command: Command = {
  name: "resume",
  summary: "(not built yet)",
  usage: "",
  options: {},
  async run() {
    throw new UserError("'seat resume' is not built yet", ExitCode.failed);
  },
};
export default command;
