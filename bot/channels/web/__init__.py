"""The web chat on the commune's portal: an embeddable widget, a small JSON API, the same core."""
