"""The language server: ``amlforge lint`` behind the Language Server Protocol (``amlforge server``).

``core`` holds what the server knows (lint with the editor's documents, field docs,
completions) without the protocol; ``lsp`` wires it to pygls, which is imported only there
(``pip install 'amlforge[server]'``).
"""
