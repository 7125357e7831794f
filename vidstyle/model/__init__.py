"""Pure maths on tensors: VGG-19 features, the encoder and its input conventions, the Gatys losses, region
Grams, the matting Laplacian."""
