# A TensorFlow checkpoint is named by its prefix: digits.ckpt is digits.ckpt.index plus
# digits.ckpt.data-00000-of-00001, and restore() takes the prefix (no file has that name).
import json
import os

import numpy as np
import tensorflow as tf

model = None


def init():
    global model
    prefix = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model", "digits.ckpt")
    model = tf.keras.Sequential([tf.keras.layers.Dense(10)])
    model.build((None, 64))
    tf.train.Checkpoint(model=model).read(prefix).expect_partial()


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"], dtype="float32")
    return model(data).numpy().argmax(axis=1).tolist()
