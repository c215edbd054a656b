"""Qt item models over API records (napari's _qt adapters): the views never hold data of their own."""
