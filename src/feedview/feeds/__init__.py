"""The feeds: pure asyncio + httpx async generators of typed items. No Textual here, ever."""
