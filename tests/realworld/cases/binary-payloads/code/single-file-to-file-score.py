import io

from azureml.contrib.services.aml_request import AMLRequest, rawhttp
from azureml.contrib.services.aml_response import AMLResponse
from PIL import Image


def init():
    pass


@rawhttp
def run(req: AMLRequest):
    if req.method != "POST":
        return AMLResponse("only POST is supported", 405)
    image = Image.open(io.BytesIO(req.files["file"].read()))
    resized = image.resize((128, 128))
    out = io.BytesIO()
    resized.save(out, format="PNG")
    return AMLResponse(out.getvalue(), 200, {"Content-Type": "image/png"})
