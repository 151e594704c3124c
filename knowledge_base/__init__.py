"""The knowledge base: articles, the editors' workflow, hybrid search, and answers for the bot."""
