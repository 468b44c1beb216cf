import json
import os

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
session = None
inputs = None
outputs = None


def init():
    global session, inputs, outputs
    folder = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model")
    saver = tf.train.import_meta_graph(os.path.join(folder, "digits-tf.model.meta"))
    graph = tf.get_default_graph()
    inputs = graph.get_tensor_by_name("network/X:0")
    outputs = graph.get_tensor_by_name("network/output/MatMul:0")
    session = tf.Session()
    saver.restore(session, os.path.join(folder, "digits-tf.model"))


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"])
    return session.run(outputs, feed_dict={inputs: data}).argmax(axis=1).tolist()
