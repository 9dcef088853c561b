"""Steps about the container images: what they are, how they run, where they go.

Images are built through the task a user runs (`invoke images.build`); they are inspected and
run with python-on-whales and probed over HTTP with httpx. The version is read from the build's
own output, so a commit landing mid-run cannot mix two versions up.
"""

from __future__ import annotations

import functools
import http.server
import ipaddress
import json
import re
import secrets
import tarfile
import threading
from pathlib import Path

import httpx
from _support import run, shown, wait_until
from behave import given, then, when
from python_on_whales import docker

from build_scripts.core import artifacts, paths, poll
from build_scripts.core.errors import CommandFailed
from build_scripts.images import bases as base_images
from build_scripts.images import build as images
from build_scripts.images import builder, specs, transfer
from build_scripts.images import recipe as base_recipe

LOCKED_DOWN = {
    "read_only": True,
    "cap_drop": ["ALL"],
    "security_options": ["no-new-privileges"],
}


def _reference(context, component: str) -> str:
    return f"traderadmin/{component}:{context.image_version}"


def _made(context, kind: str, name: str) -> None:
    context.docker_made.append((kind, name))


# --- building -----------------------------------------------------------------------------


@given('the images have been built with "{command}"')
def step_images_built(context, command):
    result = run(context, command)
    assert result.returncode == 0, shown(result)
    match = re.search(r"▶ images: build (\S+)", result.stdout)
    assert match, shown(result)
    context.image_version = match.group(1)
    context.build_output = result.stdout


@when('I time "{command}"')
def step_time(context, command):
    run(context, command)


@then("no docker build ran")
def step_no_build(context):
    out = context.result.stdout
    assert "+ docker build" not in out, shown(context.result)
    for name in specs.IMAGES:
        assert f"{name}: up to date" in out, shown(context.result)


@then("it took less than {seconds:d} seconds")
def step_took(context, seconds):
    assert context.elapsed < seconds, f"took {context.elapsed:.1f}s\n{shown(context.result)}"


# --- what the images are ------------------------------------------------------------------


@then('the image "{component}" is configured to run as user "{user}"')
def step_user(context, component, user):
    image = docker.image.inspect(_reference(context, component))
    assert image.config.user == user, f"Config.User is {image.config.user!r}"
    assert images.is_numeric_non_root(image.config.user)


@then('the image "{component}" has a JSON-form entrypoint')
def step_entrypoint(context, component):
    image = docker.image.inspect(_reference(context, component))
    entrypoint = image.config.entrypoint or []
    # The shell form would show up as ["/bin/sh", "-c", ...].
    assert entrypoint and entrypoint[:2] != ["/bin/sh", "-c"], f"Entrypoint {entrypoint}"


@then('the image "{component}" carries the OCI labels of this release')
def step_labels(context, component):
    labels = docker.image.inspect(_reference(context, component)).config.labels or {}
    shown = json.dumps(labels, indent=2)
    oci = "org.opencontainers.image."
    assert labels.get(oci + "title") == f"traderadmin-{component}", shown
    assert labels.get(oci + "version") == context.image_version, shown
    assert re.fullmatch(r"[0-9a-f]{40}", labels.get(oci + "revision", "")), shown
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", labels.get(oci + "created", "")), shown
    assert labels.get(oci + "source", "").startswith("http"), shown


@then('the image "{component}" is at most {budget:d} MB, and the build printed its size')
def step_budget(context, component, budget):
    reference = _reference(context, component)
    size = docker.image.inspect(reference).size
    assert size <= budget * artifacts.MB, f"{reference} is {size / artifacts.MB:.1f} MB"
    printed = f"{size / artifacts.MB:.1f} MB"
    rows = [line for line in context.build_output.splitlines() if line.startswith(reference)]
    assert rows and printed in rows[0], f"no row with {printed}:\n{context.build_output}"


# --- running them locked down -------------------------------------------------------------


def _run_locked_down(context, component: str, **options) -> None:
    port = specs.IMAGES[component].port
    container = docker.run(
        _reference(context, component),
        detach=True,
        name=f"traderadmin-scenario-{component}-{secrets.token_hex(3)}",
        publish=[("127.0.0.1:", port)],
        **LOCKED_DOWN,
        **options,
    )
    _made(context, "container", container.id)
    context.container = container
    published = docker.container.inspect(container.id).network_settings.ports
    context.base_url = f"http://127.0.0.1:{published[f'{port}/tcp'][0]['HostPort']}"


def _backend_options(context, token: str | None = None) -> dict:
    """`token` is the orchestrator role's; the admin gets a random one of its own."""
    volume = docker.volume.create()
    _made(context, "volume", volume.name)
    context.volume = volume
    envs = {}
    if token:
        envs = {
            "BACKEND_ORCHESTRATOR_TOKEN": token,
            "BACKEND_ADMIN_TOKEN": f"scenario-admin-{secrets.token_hex(8)}",
        }
    return {"volumes": [(volume.name, "/var/lib/traderadmin")], "envs": envs}


@given("a fresh volume for the backend's data")
def step_volume(context):
    context.backend_options = _backend_options(context)


@when('the "{component}" image runs locked down with that volume at "{path}"')
def step_run_with_volume(context, component, path):
    assert path == "/var/lib/traderadmin", "the backend's data dir is /var/lib/traderadmin"
    _run_locked_down(context, component, **context.backend_options)


@when('the "{component}" image runs locked down without a volume')
def step_run_without_volume(context, component):
    _run_locked_down(context, component)


@given("a Docker network of its own")
def step_network(context):
    network = docker.network.create(f"traderadmin-scenario-{secrets.token_hex(3)}")
    _made(context, "network", network.name)
    context.network = network


@given(
    'the backend runs locked down on that network as "{alias}" '
    'with the orchestrator token "{token}"'
)
def step_backend_on_network(context, alias, token):
    _run_locked_down(
        context,
        "backend",
        networks=[context.network.name],
        network_aliases=[alias],
        **_backend_options(context, token),
    )


@when(
    'the "{component}" image runs locked down on that network with the backend "{url}" '
    'and the token "{token}"'
)
def step_orchestrator_on_network(context, component, url, token):
    envs = {
        "ORCHESTRATOR_BACKEND_URL": url,
        "ORCHESTRATOR_TOKEN": token,
        "ORCHESTRATOR_TICK_SECONDS": "1",
    }
    _run_locked_down(context, component, networks=[context.network.name], envs=envs)


@then('"{path}" answers {status:d} within {seconds:d} seconds')
def step_answers(context, path, status, seconds):
    def answered() -> bool:
        response = httpx.get(context.base_url + path, timeout=3)
        if response.status_code != status:
            raise poll.NotYet(f"{response.status_code} {response.text.strip()}")
        return True

    wait_until(
        f"{path} to answer {status}",
        answered,
        seconds,
        lambda: f"--- container log ---\n{docker.container.logs(context.container.id)}",
        interval=0.5,
        ignore=(httpx.HTTPError,),
    )


@then("its process runs as uid {uid:d} with no capabilities and no new privileges")
def step_process(context, uid):
    pid = docker.container.inspect(context.container.id).state.pid
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    assert fields["Uid"].split()[:2] == [str(uid), str(uid)], status
    assert int(fields["CapEff"], 16) == 0 and int(fields["CapPrm"], 16) == 0, status
    assert fields["NoNewPrivs"].strip() == "1", status


@then("its root file system is read-only")
def step_read_only(context):
    container = docker.container.inspect(context.container.id)
    assert container.host_config.readonly_rootfs is True
    mounts = Path(f"/proc/{container.state.pid}/mounts").read_text().splitlines()
    root = [line.split() for line in mounts if line.split()[1] == "/"]
    assert root and "ro" in root[-1][3].split(","), "\n".join(mounts)


# --- hermetic builds ----------------------------------------------------------------------


@given("a web server on this host that a container on Docker's default network can reach")
def step_web_server(context):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=context.scratch)
    server = http.server.ThreadingHTTPServer(("0.0.0.0", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    context.add_cleanup(server.shutdown)
    ipam = docker.network.inspect("bridge").ipam.config[0]
    # Docker gives the bridge the subnet's first address unless configured otherwise.
    gateway = ipam.get("Gateway") or str(next(ipaddress.ip_network(ipam["Subnet"]).hosts()))
    context.probe_url = f"http://{gateway}:{server.server_address[1]}/"
    context.build_base = base_images.image_ref("traderadmin", "build", base_recipe.load_recipe())
    # The control: with a network, the request succeeds, so the build below fails for lack of
    # one and not because the server is out of reach.
    output = docker.run(
        context.build_base,
        ["python3", "-c", f"import urllib.request; urllib.request.urlopen({context.probe_url!r})"],
        remove=True,
    )
    assert "Error" not in str(output), output


@when("the engine builds this Dockerfile on the local build base:")
def step_build_probe(context):
    build_dir = context.scratch / "probe"
    build_dir.mkdir()
    dockerfile = build_dir / "Dockerfile"
    dockerfile.write_text(context.text.replace("{url}", context.probe_url) + "\n")
    context.build_error = None
    try:
        builder.docker_build(
            context=build_dir,
            dockerfile=dockerfile,
            tags=["traderadmin-scenario/hermetic-probe:latest"],
            args={"BASE": context.build_base},
            labels={},
            builder=builder.select_builder("auto"),
            step="hermetic probe",
        )
    except CommandFailed as error:
        context.build_error = error


@then('the build fails, saying "{text}"')
def step_build_fails(context, text):
    error = context.build_error
    assert error is not None, "the build succeeded: a RUN step reached the network"
    assert any(text in line for line in error.tail), "\n".join(error.tail)


# --- transfer -----------------------------------------------------------------------------


@then(
    '"{relative}" in the release folder holds the {component} image with its version and '
    "commit tags"
)
def step_archive(context, relative, component):
    archive = paths.dist_dir(context.image_version) / relative
    with tarfile.open(archive) as saved:
        manifest = json.loads(saved.extractfile("manifest.json").read())
    image = docker.image.inspect(_reference(context, component))
    revision = image.config.labels["org.opencontainers.image.revision"]
    expected = {_reference(context, component), f"traderadmin/{component}:{revision}"}
    assert set(manifest[0]["RepoTags"]) == expected, manifest
    assert transfer.saved_image_ids(archive) == {image.id}, manifest


@when("I push the images to the local registry")
def step_push(context):
    run(context, f"invoke images.push --registry {context.registry.address}")


@then('pulling "{component}" back from the registry gives the digest that was pushed')
def step_pull_back(context, component):
    match = re.search(
        rf"^{component}: pushed .* as (sha256:[0-9a-f]{{64}})$", context.result.stdout, re.M
    )
    assert match, shown(context.result)
    pushed = match.group(1)
    remote = f"{context.registry.address}/{_reference(context, component)}"
    docker.image.pull(remote, quiet=True)
    try:
        pulled = docker.image.inspect(remote)
        repository = remote.rsplit(":", 1)[0]
        digests = [d.split("@", 1)[1] for d in pulled.repo_digests if d.startswith(repository)]
        assert digests == [pushed], f"pushed {pushed}, pulled {digests}"
        assert pulled.id == docker.image.inspect(_reference(context, component)).id
    finally:
        docker.image.remove(remote)
