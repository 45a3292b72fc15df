"""Two devices, one journal, pure: what a save records so that two devices' files can be merged later
(`stamps`), and the merge rules themselves (`versions`, `journal`, `roster`, `tables`): every entry of either
side is kept, the same record changed on both sides keeps the newer version and the other beside it, a
forgotten entry or a removed peer stays gone. No I/O: `actions.conflicts` reads and writes the files."""
