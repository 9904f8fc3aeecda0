"""The conversation: follow-ups refine the previous request instead of starting over.

``respond(message, state, engine)`` (``turns.py``) is a pure function: it reads one message against the state of
one conversation (``state.py``) and returns the reply (Markdown, ``rendering.py``) and the next state. A message
is, in this order (``reading.py``):

- ``start over`` (optionally followed by a new request), or ``help``;
- ``why #3`` / ``why Bad Romance``: the long explanation of a song already shown;
- ``more like #2`` / ``songs like Bad Romance [but slower]``: song-to-song similarity, keeping the conditions; a
  number past the list or a song the catalogue does not have is answered as such (``references.py``);
- ``show more`` / ``5 more`` / ``next``: the next page of the same request, never repeating a song;
- a request in another language: asked again in English, or searched for the names and years in it alone;
- a refinement of the current request (``refining.py``): it starts with a cue (``only``, ``no``, ``and``, ``but``,
  ...), compares (``calmer``, ``more upbeat``, ``older ones``), or only adds conditions (``no Kesha``,
  ``from 2015``). A comparison moves past the last answer (``moves.py``): the songs a visible step beyond the
  median of the songs just shown, for this page and the next ones;
- otherwise a new request.
"""

from assistant.dialogue.reading import FollowUp, is_refinement, read_follow_up
from assistant.dialogue.refining import refine
from assistant.dialogue.state import DialogueState
from assistant.dialogue.turns import respond

__all__ = ["DialogueState", "FollowUp", "is_refinement", "read_follow_up", "refine", "respond"]
