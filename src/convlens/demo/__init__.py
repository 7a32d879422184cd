"""The built-in demo: real images and really trained small models, available offline."""
