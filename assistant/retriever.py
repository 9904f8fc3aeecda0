"""Moodring as a LangChain retriever: a request in, its songs out as ``Document``s, for chains and agents."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from assistant.conditions import Filters
from assistant.discovery.browse import filtered_search
from assistant.engine import SearchEngine, validate_query
from assistant.results import SearchResponse, SearchResult


class MoodringRetriever(BaseRetriever):
    """Answers a request with the engine (understanding, filters, re-ranking and explanations, over whichever store
    it searches) and returns one ``Document`` per song: the song's description as ``page_content``, the result's
    fields as ``metadata`` (``rank, song_id, title, artist, year, genre, score, explanation, matched``, plus the
    request's ``understood`` and ``relaxed``), and the song id as the document id.

    ``retriever.invoke("songs for a rainy heartbreak")``; ``retriever.batch([...])`` answers several.
    """

    engine: SearchEngine
    """The loaded engine; read-only, so one retriever serves any number of calls at once."""
    k: int | None = None
    """Songs per answer (default: the engine's ``Settings.top_k``; a count in the request wins, as in the chat)."""
    filters: Filters = Filters()
    """Hard filters that are never relaxed (exact genres, a year range), as the Discover tab applies them."""
    diverse: bool = True
    """At most ``Settings.diversity_max_per_artist`` songs by one artist while others can fill the answer."""

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return documents(self.respond(query))

    def respond(self, query: str) -> SearchResponse:
        """The engine's whole response to ``query`` (what the documents are made from)."""
        if self.filters.active:
            return filtered_search(self.engine, query, self.filters, self.k, self.diverse)
        if self.diverse:
            return self.engine.search(query, self.k)
        return self.engine.search_intent(self.engine.understand(validate_query(query)), self.k, diverse=False)


def documents(response: SearchResponse) -> list[Document]:
    """A response's results as Documents, best first."""
    return [_document(result, response) for result in response.results]


def _document(result: SearchResult, response: SearchResponse) -> Document:
    metadata: dict[str, Any] = result.to_dict()
    del metadata["description"]
    metadata.update(understood=response.understood, relaxed=response.relaxed)
    return Document(page_content=result.description, metadata=metadata, id=result.song_id)
