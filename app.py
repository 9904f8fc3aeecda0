"""Moodring's Gradio app: ``python app.py [--host] [--port] [--share] [--catalogue PATH]``."""

from __future__ import annotations

import argparse
from pathlib import Path

import gradio as gr

from assistant.engine import SearchEngine
from assistant.formatting import response_as_markdown
from index_builder.errors import MoodringError
from index_builder.settings import Settings

EXAMPLES = [
    "songs for a rainy heartbreak",
    "upbeat workout songs with low acousticness, nothing before 2015",
    "high energy dance pop",
    "calm acoustic songs for studying",
]


def create_app(engine: SearchEngine) -> gr.ChatInterface:
    """The chat UI over one search engine; each message is answered on its own."""

    def respond(message: str, history: list[dict]) -> str:
        try:
            return response_as_markdown(engine.search(message))
        except MoodringError as error:
            return str(error)

    return gr.ChatInterface(
        respond,
        title="Moodring",
        description="Describe a mood, an activity or a moment; get songs that fit, each with the reason why.",
        examples=EXAMPLES,
        api_name="chat",
    )


def main(argv: list[str] | None = None) -> None:
    """Load the engine (building the index if needed) and serve the app."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--share", action="store_true", help="also create a public Gradio share link")
    parser.add_argument("--catalogue", type=Path, help="catalogue CSV (default: the bundled one)")
    args = parser.parse_args(argv)
    engine = SearchEngine.from_settings(Settings.from_env(catalogue_path=args.catalogue), on_progress=print)
    app = create_app(engine)
    app.queue(default_concurrency_limit=4).launch(server_name=args.host, server_port=args.port, share=args.share)


if __name__ == "__main__":
    main()
