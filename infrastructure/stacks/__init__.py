"""The three stacks of the DR design: primary, secondary and global."""
