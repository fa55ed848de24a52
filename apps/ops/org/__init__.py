"""The organisation: departments (a tree with heads), users and their roles."""
