"""The commands, grouped by what they keep true; each module registers its commands on the app."""
