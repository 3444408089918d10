// Placeholder until the owning area lands; see the issue that covers `seat import-csv`.
import { type Command, UserError, ExitCode } from "../command";

const command: Command = {
  name: "import-csv",
  summary: "(not built yet)",
  usage: "",
  options: {},
  async run() {
    throw new UserError("'seat import-csv' is not built yet", ExitCode.failed);
  },
};
export default command;
