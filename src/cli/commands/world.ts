// Placeholder until the owning area lands; see the issue that covers `seat world`.
import { type Command, UserError, ExitCode } from "../command";

const command: Command = {
  name: "world",
  summary: "(not built yet)",
  usage: "",
  options: {},
  async run() {
    throw new UserError("'seat world' is not built yet", ExitCode.failed);
  },
};
export default command;
