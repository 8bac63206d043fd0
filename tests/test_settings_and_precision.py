"""The mode and precision switches, and how the precision is chosen for a CPU."""

from __future__ import annotations

import pytest

from helpers import settings
from helpers.precision import choose_precision, cpu_bfloat16_flags

CPU_WITH_BF16 = "processor\t: 0\nflags\t\t: fpu sse2 avx512f avx512_bf16 avx512_vnni\n"
CPU_WITHOUT_BF16 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\n"


def test_full_mode_is_the_default(clean_settings):
    assert settings.mode() == "full"


def test_quick_and_smoke_mode_in_any_case(clean_settings):
    for value, mode in (("Quick", "quick"), ("SMOKE ", "smoke")):
        clean_settings.setenv("MNIST_SERIES_MODE", value)
        assert settings.mode() == mode


def test_bad_mode_says_what_is_allowed(clean_settings):
    clean_settings.setenv("MNIST_SERIES_MODE", "fast")
    with pytest.raises(
        ValueError,
        match="MNIST_SERIES_MODE='fast' is not a valid setting. Use one of: full, quick",
    ):
        settings.mode()


def test_artifacts_are_kept_per_mode(clean_settings, tmp_path):
    full = settings.artifacts_dir()
    clean_settings.setenv("MNIST_SERIES_MODE", "quick")
    assert full == tmp_path / "artifacts" / "full"
    assert settings.artifacts_dir() == tmp_path / "artifacts" / "quick"


def test_default_artifacts_folder_is_in_the_project(clean_settings):
    clean_settings.delenv("MNIST_ARTIFACTS")
    assert settings.artifacts_dir() == settings.PROJECT_ROOT / "artifacts" / "full"


def test_bfloat16_where_the_cpu_has_it(clean_settings, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(CPU_WITH_BF16)
    assert cpu_bfloat16_flags(cpuinfo) == ["avx512_bf16"]
    choice = choose_precision(cpuinfo)
    assert choice.policy == "mixed_bfloat16" and "avx512_bf16" in choice.reason


def test_float32_where_it_does_not(clean_settings, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(CPU_WITHOUT_BF16)
    assert choose_precision(cpuinfo).policy == "float32"
    assert choose_precision(tmp_path / "no-such-file").policy == "float32"


@pytest.mark.parametrize("forced", ["float32", "mixed_bfloat16"])
def test_precision_can_be_forced(clean_settings, tmp_path, forced):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(CPU_WITH_BF16 if forced == "float32" else CPU_WITHOUT_BF16)
    clean_settings.setenv("MNIST_PRECISION", forced)
    choice = choose_precision(cpuinfo)
    assert choice.policy == forced and "forced" in choice.reason


def test_bad_precision_setting(clean_settings):
    clean_settings.setenv("MNIST_PRECISION", "fp16")
    with pytest.raises(ValueError, match="MNIST_PRECISION='fp16'.*auto, mixed_bfloat16, float32"):
        choose_precision()
