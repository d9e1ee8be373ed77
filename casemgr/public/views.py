from flask import render_template

from casemgr.public import bp


@bp.route("/")
def home():
    return render_template("public/home.html")
