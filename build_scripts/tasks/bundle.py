"""bundle: one signed file for an air-gapped site, and its offline verification."""

from __future__ import annotations

import os
from pathlib import Path

from invoke import Collection

from build_scripts.bundle import signing, verify
from build_scripts.core import bootstrap as bootstrapping
from build_scripts.core import metadata
from build_scripts.core.progress import say
from build_scripts.release import pipeline, summary
from build_scripts.release import steps as release_steps
from build_scripts.tasks._base import release_task
from build_scripts.tasks._options import build_options

KEY_HELP = {
    "signing-key": f"OpenPGP secret key file that signs SHA256SUMS (default: ${signing.ENV_KEY}; "
    f"passphrase from ${signing.ENV_PASSPHRASE}); without one the bundle is unsigned",
}
VERIFY_HELP = {
    "public-key": "the release signing key's public half (OpenPGP, armoured or binary)",
    "allow-unsigned": "accept a bundle without a signature (or without --public-key)",
}


@release_task(
    default=True,
    help={
        **KEY_HELP,
        "version": "the release version to bundle (default: this checkout's)",
        "jobs": "how many release steps may run at the same time (default: release.jobs)",
        "bootstrap": "install/start the toolchain first when a step has work (default: yes)",
    },
)
def make(c, signing_key=None, version=None, jobs=None, bootstrap=True):
    """Write dist/<version>/<product>-<version>-bundle.tar (the release step `bundle`)."""
    current = metadata.current_release(version or c.config.release.version)
    signer = signing.Signer.from_env(signing_key)
    if signer is not None:
        # The release step runs in a worker process: it finds the key where the env says.
        os.environ[signing.ENV_KEY] = str(signer.key_file)
    options = build_options(c)
    result = pipeline.run_release(
        current,
        release_steps.standard_steps(options),
        only=["bundle"],
        jobs=int(jobs if jobs is not None else c.config.release.jobs),
        bootstrap=bootstrapping.bootstrap if bootstrap else None,
        options=options,
    )
    assert result is not None
    bundled = [e for e in result.entries if e.step == "bundle"]
    say("")
    say(summary.table(bundled, current.dist_dir))


@release_task(name="verify", help={"file": "the …-bundle.tar to check", **VERIFY_HELP})
def verify_bundle(c, file, public_key=None, allow_unsigned=False):
    """Check a bundle offline: signature, every checksum, image digests against the pinned
    manifests, an SBOM per image; exit 5 naming the file that does not match."""
    report = verify.verify(
        Path(file), Path(public_key) if public_key else None, allow_unsigned=allow_unsigned
    )
    for line in report.lines():
        say(line)
    say(f"{Path(file).name}: verified ({report.description.get('version')}, {report.signed_by})")


ns = Collection(make, verify_bundle)
