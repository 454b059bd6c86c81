"""Zalo Official Account: webhook in, OpenAPI out; staff work in the Telegram desk."""
