"""Write the predefined macros of each engine target's gcc as data (run once per gcc).

    python tools/gen_predefines.py [TARGET ...]

For a target the layout engine lays out from a borrowed clang parse (``Target.predefines``),
clang is given its gcc's predefined macros instead of its own (``-undef`` and these): a
header then declares what it declares for that target. They are taken once from the
checking gcc (``gcc -dM -E``) into ``src/abiscope/data/predefines/<target>.h``; nothing is
read from an installed gcc at run time.
"""

from __future__ import annotations

import subprocess
import sys

from abiscope.frontend.options import PREDEFINES_DIR
from abiscope.targets import TARGETS


def main(argv: list[str]) -> int:
    names = argv or [t.name for t in TARGETS.values() if t.predefines]
    for name in names:
        target = TARGETS[name]
        assert target.checker is not None and target.predefines, name
        cmd = [target.checker.gcc, *target.checker.flags, "-dM", "-E", "-std=gnu11", "-x", "c",
               "/dev/null"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        version = subprocess.run([target.checker.gcc, "-dumpfullversion"], capture_output=True,
                                 text=True, check=True).stdout.strip()
        head = f"/* {' '.join(cmd)} (gcc {version}): tools/gen_predefines.py */\n"
        with open(f"{PREDEFINES_DIR}/{name}.h", "w", encoding="utf-8") as fh:
            fh.write(head + "".join(sorted(out.splitlines(keepends=True))))
        print(f"{name}: {out.count(chr(10))} macros")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
