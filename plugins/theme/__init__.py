"""theme: theme-conditioned development (after Theme Transformer). Not yet shipped: see README.md
in this folder."""
