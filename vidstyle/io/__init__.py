"""Input and output: images, videos, frame directories, cameras."""
