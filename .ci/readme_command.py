"""Print the README quickstart command that follows `<!-- quickstart:NAME -->`."""

import re
import sys
from pathlib import Path

name = sys.argv[1]
readme = Path(__file__).resolve().parent.parent.joinpath("README.md").read_text()
match = re.search(rf"<!-- quickstart:{re.escape(name)} -->\s*```bash\n(.*?)\n```", readme, re.S)
if not match:
    sys.exit(f"README.md has no `quickstart:{name}` command block")
print(match.group(1).strip())
