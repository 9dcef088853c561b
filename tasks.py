"""TraderAdmin release tasks. `invoke --list` shows them; the work is in build_scripts/."""

from invoke import Collection

from build_scripts.tasks import release, toolchain

ns = Collection()
ns.add_task(release.release)
for task_ in toolchain.ns.tasks.values():
    ns.add_task(task_)
ns.configure(release.ns.configuration())
