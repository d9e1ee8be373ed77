"""What setup.cfg cannot say: the web folders travel inside the package.

templates/, static/ and migrations/ sit beside the package in the repository,
where a checkout and an editable install (``pip install -e .``, which puts the
repository on ``sys.path``) read them. A built wheel (``pip install .``) has no
repository beside it, so they are copied into ``casemgr/`` there, where
``casemgr.app_folder`` finds them.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

WEB_FOLDERS = ("templates", "static", "migrations")


class BuildPyWithWebFolders(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        for name in WEB_FOLDERS:
            for source in sorted(Path(name).rglob("*")):
                if source.is_file() and "__pycache__" not in source.parts:
                    target = Path(self.build_lib, "casemgr", source)
                    self.mkpath(str(target.parent))
                    self.copy_file(str(source), str(target))


setup(cmdclass={"build_py": BuildPyWithWebFolders})
