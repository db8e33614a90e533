"""``python -m dmm_studio.host FD``: the engine's child process (see ``child.main``).

It runs the imported module's ``main``, so that what the child pickles names
``dmm_studio.host...`` (not ``__main__``), which the parent can find."""

import sys

from dmm_studio.host.child import main

sys.exit(main(sys.argv))
