from flask import Flask, render_template, request

from flask_dropzone import Dropzone

app = Flask(__name__)
dropzone = Dropzone(app)


@app.route("/", methods=["GET", "POST"])
def upload():
    if request.method == "POST":
        return dropzone.answer(dropzone.save())  # stores the files, says which
    return render_template("index.html")
