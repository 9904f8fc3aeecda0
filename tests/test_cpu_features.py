"""Reading the CPU's flags without torch, the ONEDNN_MAX_CPU_ISA cap, and the encoder path they choose."""

from __future__ import annotations

import pytest

from index_builder.cpu_features import capped, cpuinfo_flags, detect_cpu
from index_builder.embedding import Encoder, choose_document_precision
from index_builder.errors import ConfigError

SAPPHIRE_RAPIDS = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8 avx_vnni
bugs\t\t: spectre_v1

processor\t: 1
flags\t\t: fpu sse2
"""
LAPTOP = "processor\t: 0\nmodel name\t: AMD Ryzen 5 3600\nflags\t\t: fpu sse2 avx f16c avx2 fma bmi2\n"
ARM = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes\nCPU implementer\t: 0x41\n"


def test_flags_come_from_the_first_processor():
    flags = cpuinfo_flags(SAPPHIRE_RAPIDS)
    assert {"avx512_bf16", "amx_bf16", "avx_vnni"} <= flags and "bugs" not in flags
    assert cpuinfo_flags(ARM) == frozenset() and cpuinfo_flags("") == frozenset()


def test_native_bf16_and_int8_instructions_by_machine():
    server = capped(cpuinfo_flags(SAPPHIRE_RAPIDS), None)
    assert server.native_bf16 and server.int8_dot_product == "VNNI" and server.cap is None
    laptop = capped(cpuinfo_flags(LAPTOP), None)
    assert not laptop.native_bf16 and laptop.int8_dot_product == "AVX2"
    assert laptop.describe() == "avx2"
    arm = capped(cpuinfo_flags(ARM), None)
    assert not arm.native_bf16 and arm.int8_dot_product == "none" and arm.describe().startswith("none of")
    amx_only = capped(frozenset({"avx2", "amx_bf16", "amx_tile"}), None)
    assert amx_only.native_bf16


def test_the_onednn_cap_hides_what_it_excludes_but_not_from_onnxruntime():
    server = cpuinfo_flags(SAPPHIRE_RAPIDS)
    avx2 = capped(server, "AVX2")
    assert avx2.flags == {"avx2"} and avx2.cap == "AVX2" and not avx2.native_bf16
    assert avx2.int8_dot_product == "AVX2" and avx2.onnxruntime_int8_kernels == "VNNI"
    assert "capped at AVX2 by ONEDNN_MAX_CPU_ISA" in avx2.describe()
    vnni = capped(server, "avx512_core_vnni")  # oneDNN reads the value in any case
    assert vnni.int8_dot_product == "VNNI" and not vnni.native_bf16
    assert capped(server, "avx512_core_bf16").native_bf16 and not capped(server, "AVX512_CORE").native_bf16
    for uncapped in ("ALL", "DEFAULT", "", "no such isa"):
        assert capped(server, uncapped).flags == capped(server, None).flags and capped(server, uncapped).cap is None


def test_detection_reads_the_file_and_the_environment(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(SAPPHIRE_RAPIDS)
    assert detect_cpu({}, cpuinfo).native_bf16
    assert not detect_cpu({"ONEDNN_MAX_CPU_ISA": "AVX2"}, cpuinfo).native_bf16
    assert detect_cpu({}, tmp_path / "missing").flags == frozenset()  # no /proc: no native bf16, the int8 path


def test_the_fast_path_follows_the_cpu_unless_a_precision_is_set():
    server, laptop = capped(cpuinfo_flags(SAPPHIRE_RAPIDS), None), capped(cpuinfo_flags(LAPTOP), None)
    assert choose_document_precision("fast", "auto", server) == "bf16"
    assert choose_document_precision("fast", "auto", laptop) == "int8"
    assert choose_document_precision("fast", "auto", capped(server.flags, "AVX2")) == "int8"
    assert choose_document_precision("fast", "fp32", server) == "fp32"
    assert choose_document_precision("fast", "int8", server) == "int8"
    assert choose_document_precision("plain", "int8", server) == "fp32"  # plain is always the fp32 reference


def test_encoder_reports_its_path(model_location):
    laptop = capped(cpuinfo_flags(LAPTOP), None)
    fast = Encoder(model_location, "fast", cpu=laptop)
    assert (fast.document_precision, fast.query_precision) == ("int8", "int8w")  # dynamic int8: only when asked
    assert fast.description == "fast encoder: documents onnxruntime int8, queries onnxruntime int8w (CPU flags: avx2)"
    assert Encoder(model_location, "fast", cpu=laptop, query_precision="int8").query_precision == "int8"
    assert Encoder(model_location, "fast", cpu=laptop, query_precision="fp32").query_precision == "fp32"
    assert Encoder(model_location, "plain", cpu=laptop, query_precision="int8").query_precision == "fp32"
    server = Encoder(model_location, "fast", cpu=capped(cpuinfo_flags(SAPPHIRE_RAPIDS), None))
    assert (server.document_precision, server.query_precision) == ("bf16", "int8w")
    assert "sentence-transformers bf16" in server.description
    with pytest.raises(ConfigError, match="Unknown encoder precision 'int4'"):
        Encoder(model_location, "fast", precision="int4")
    with pytest.raises(ConfigError, match="Unknown query precision 'bf16'"):
        Encoder(model_location, "fast", query_precision="bf16")
