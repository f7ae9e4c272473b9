"""Custom Keras layers of the course."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="aecourse")
class DenseTied(keras.layers.Layer):
    """A dense layer whose kernel is the transpose of another `Dense` layer's.

    Tied weights (the lecture notes' "weights were transpose"): a decoder layer
    `r = activation(h W^T + b')` that reuses the encoder layer's kernel `W`,
    halving the number of weights. Only the bias `b'` is its own.

    Inside `aecourse.models.DenseAutoencoder(tied=True)` the tie survives a
    save and reload, because the model rebuilds it from its config. Saved on
    its own, the layer reloads with its own copy of the tied layer.

    Args:
        tied_to: the `keras.layers.Dense` layer whose kernel is transposed.
            It must be built (called once) before this layer is called.
        activation: activation function, e.g. `"sigmoid"` or `None`.
        use_bias: whether to add a bias of its own.
        **kwargs: base `Layer` arguments such as `name`.

    Example:

    >>> encode = keras.layers.Dense(32, activation="relu")
    >>> decode = DenseTied(encode, activation="sigmoid")
    >>> x = keras.random.uniform((4, 784))
    >>> decode(encode(x)).shape
    (4, 784)
    """

    def __init__(self, tied_to, activation=None, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        if isinstance(tied_to, dict):
            tied_to = keras.saving.deserialize_keras_object(tied_to)
        if not isinstance(tied_to, keras.layers.Dense):
            raise ValueError(
                "tied_to must be a keras.layers.Dense layer. "
                f"Received: tied_to={type(tied_to).__name__}"
            )
        self.tied_to = tied_to
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias

    def build(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] != self.tied_to.units:
            raise ValueError(
                f"DenseTied expects inputs with {self.tied_to.units} features (the tied "
                f"layer's units). Received: input_shape={tuple(input_shape)}"
            )
        if not self.tied_to.built:
            raise ValueError(
                "The tied Dense layer must be called once before DenseTied is built, "
                "so that its kernel exists. Call the encoder layer first."
            )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.tied_to.kernel.shape[0],), initializer="zeros"
            )

    def call(self, inputs):
        outputs = ops.matmul(inputs, ops.transpose(self.tied_to.kernel))
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.tied_to.kernel.shape[0],)

    def get_config(self):
        config = super().get_config()
        config.update({
            "tied_to": keras.saving.serialize_keras_object(self.tied_to),
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
        })
        return config
