"""TraderAdmin release tasks. `invoke --list` shows them; the work is in build_scripts/."""

from invoke import Collection

from build_scripts.tasks import (
    bench,
    bundle,
    clean,
    cluster,
    deploy,
    desktop,
    dev,
    images,
    installer,
    release,
    report,
    toolchain,
    updates,
    validate,
)

ns = Collection()
# `invoke release` is the collection's default task; release.verify-reproducible sits beside it.
ns.add_collection(release.ns, name="release")
for task_ in toolchain.ns.tasks.values():
    ns.add_task(task_)
for module in (
    dev,
    desktop,
    installer,
    images,
    cluster,
    deploy,
    bundle,
    bench,
    clean,
    validate,
    report,
    updates,
):
    name = module.__name__.rsplit(".", 1)[-1]
    ns.add_collection(module.ns, name=name)
    ns.configure(module.ns.configuration())
ns.configure(release.ns.configuration())
