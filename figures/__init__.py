"""Figures drawn from pose data: the body model (`figures.body`), drawing (`figures.render`), files on disk."""
