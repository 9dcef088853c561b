"""Which WebView2 bootstrapper a build embeds, and what the release summary says about it."""

import pytest

from build_scripts.core import metadata
from build_scripts.core.errors import ConfigError
from build_scripts.release import steps as release_steps
from build_scripts.release.options import BuildOptions
from build_scripts.windows import installer, webview2


def test_without_a_setting_nothing_is_embedded(monkeypatch):
    monkeypatch.delenv(webview2.ENV_BOOTSTRAPPER, raising=False)
    assert webview2.configured_bootstrapper(None, None) is None
    assert webview2.note(None) == "no WebView2 bootstrapper"


def test_the_option_beats_the_variable_which_beats_the_setting(tmp_path, monkeypatch):
    option, variable, setting = (tmp_path / n for n in ("option.exe", "env.exe", "config.exe"))
    for path in (option, variable, setting):
        path.write_bytes(b"MZ")
    monkeypatch.setenv(webview2.ENV_BOOTSTRAPPER, str(variable))
    assert webview2.configured_bootstrapper(option, setting) == option
    assert webview2.configured_bootstrapper(None, setting) == variable
    monkeypatch.delenv(webview2.ENV_BOOTSTRAPPER)
    assert webview2.configured_bootstrapper(None, setting) == setting
    assert webview2.note(setting) == "WebView2 bootstrapper embedded"


def test_a_missing_file_names_the_variable_that_points_to_it(tmp_path, monkeypatch):
    monkeypatch.setenv(webview2.ENV_BOOTSTRAPPER, str(tmp_path / "gone.exe"))
    with pytest.raises(ConfigError, match=f"{webview2.ENV_BOOTSTRAPPER} names .*gone.exe"):
        webview2.configured_bootstrapper()


def test_the_release_step_embeds_what_the_variable_names(tmp_path, monkeypatch):
    bootstrapper = tmp_path / "MicrosoftEdgeWebview2Setup.exe"
    bootstrapper.write_bytes(b"MZ")
    monkeypatch.setenv(webview2.ENV_BOOTSTRAPPER, str(bootstrapper))
    seen = {}
    monkeypatch.setattr(
        installer, "build_installer", lambda release, **kwargs: seen.update(kwargs) or "built"
    )
    exe = str(tmp_path / "TraderAdmin.exe")  # the installer.build --app-exe of its own
    produce = release_steps._installer(BuildOptions(app_exe=exe))
    assert produce(metadata.current_release("1.2.3")) == ["built"]
    assert seen["webview2_bootstrapper"] == bootstrapper
    # `installer.build --webview2-bootstrapper FILE` beats the variable in the step too.
    flag = tmp_path / "flag.exe"
    flag.write_bytes(b"MZ")
    release_steps._installer(BuildOptions(webview2_bootstrapper=str(flag), app_exe=exe))(
        metadata.current_release("1.2.3")
    )
    assert seen["webview2_bootstrapper"] == flag
