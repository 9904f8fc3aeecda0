"""Process-wide settings, in one place: the environment before numpy and the model libraries load, and thread
counts once the settings are known. Entry points call ``configure_process`` once, at start-up
(``cli_common.settings_from_args`` does it for every command line and the app)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index_builder.settings import Settings

PROCESS_ENVIRONMENT = {
    # OpenBLAS worker threads busy-wait for about 2^28 cycles after each call; a request's matrix-vector product
    # then left them spinning on both cores while the next query ran onnxruntime (query embedding p50 21 ms
    # instead of 15 at 30,000 songs). 2^4 cycles lets them sleep at once. Read only when numpy first loads.
    "OPENBLAS_THREAD_TIMEOUT": "4",
    # Never reach for a model hub, even by accident: the model is assembled and verified locally.
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}


def prepare_environment() -> None:
    """Set each of PROCESS_ENVIRONMENT unless the person set it already (``index_builder`` does this on import,
    which every entry point does before numpy loads)."""
    for name, value in PROCESS_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


def configure_process(settings: Settings) -> None:
    """Apply the process-wide settings: the environment, and FAISS's thread count (``settings.faiss_threads``)."""
    import faiss  # here, not at the top: this module must not load numpy before prepare_environment has run

    prepare_environment()
    faiss.omp_set_num_threads(max(1, settings.faiss_threads))
