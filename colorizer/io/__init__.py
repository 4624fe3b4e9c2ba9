"""Reading, writing and colour: images, Lab, atomic files, JSON, bounds."""
