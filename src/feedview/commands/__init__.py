"""One module per subcommand, each with `run(args) -> exit status`."""

import os
import sys


def reader_left() -> int:
    """stdout's reader went away (`| head`): that is not an error, as for other Unix tools.

    stdout is pointed at /dev/null so that Python's flush at exit stays quiet too.
    """
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
