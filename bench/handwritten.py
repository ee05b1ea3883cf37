"""The hand-written recipe of issue #22, as a user would write it without the studio.

MobileNetV2 with ImageNet weights, frozen, global average pooling, Dropout 0.2 and a Dense
softmax; ``image_dataset_from_directory`` at 224 px, ``mobilenet_v2.preprocess_input``, a plain
``model.fit`` of 10 epochs with Adam 1e-3, the weights of the best validation epoch restored,
scored on the test folder. ``bench/multiclass.py`` runs it as one process per seed::

    python bench/handwritten.py DATA_DIR SEED    # DATA_DIR holds train/ val/ test/ class folders

It prints one JSON line: ``test_accuracy`` and ``val_accuracy`` (of the best epoch).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

WEIGHTS = Path(__file__).resolve().parents[2] / "shared" / "weights"
WEIGHTS_FILE = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"


def handwritten_recipe(data: str, seed: int) -> dict[str, Any]:
    """Trains and scores the recipe on ``data`` (train/ val/ test/ folders); returns accuracies."""
    import keras

    keras.utils.set_random_seed(seed)
    size = (224, 224)
    weights = Path(os.environ.get("STUDIO_WEIGHTS_DIR") or WEIGHTS) / WEIGHTS_FILE
    train = keras.utils.image_dataset_from_directory(f"{data}/train", image_size=size, seed=seed)
    val = keras.utils.image_dataset_from_directory(f"{data}/val", image_size=size, shuffle=False)
    test = keras.utils.image_dataset_from_directory(f"{data}/test", image_size=size, shuffle=False)
    num_classes = len(train.class_names)
    prep = keras.applications.mobilenet_v2.preprocess_input
    train, val, test = (d.map(lambda x, y: (prep(x), y)) for d in (train, val, test))

    base = keras.applications.MobileNetV2(
        weights=str(weights), include_top=False, input_shape=(*size, 3)
    )
    base.trainable = False
    inputs = keras.Input((*size, 3))
    x = keras.layers.GlobalAveragePooling2D()(base(inputs, training=False))
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(
        keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )

    class KeepBest(keras.callbacks.Callback):
        """Remembers the weights of the epoch with the best validation accuracy."""

        best, weights = -1.0, None

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            if logs["val_accuracy"] > self.best:
                self.best, self.weights = logs["val_accuracy"], self.model.get_weights()

    keep = KeepBest()
    model.fit(train, validation_data=val, epochs=10, callbacks=[keep], verbose=0)
    model.set_weights(keep.weights)
    _, test_accuracy = model.evaluate(test, verbose=0)
    return {"test_accuracy": float(test_accuracy), "val_accuracy": float(keep.best)}


if __name__ == "__main__":
    print(json.dumps(handwritten_recipe(sys.argv[1], int(sys.argv[2]))))
