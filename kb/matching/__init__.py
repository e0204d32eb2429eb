"""Matching names from datasets and spreadsheets to the KB's actors, outlets and places:
candidates read from the store, features and scores that explain themselves, and the
decisions people make about them (kept in the store and in data/matches/)."""
