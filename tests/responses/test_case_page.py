"""What staff see of a provider's answers: the queue's view, the case page."""

from __future__ import annotations

from casemgr import context
from casemgr.localtime import input_value
from tests.conftest import login
from tests.responses.test_views import answer, reload


def test_the_queue_view_and_the_case_page(client, app, send_letter, analyst):
    sent = send_letter(2)
    answer(
        client,
        sent,
        {
            0: {"answer": "removed"},
            1: {"answer": "cannot_remove", "message": "Needs a court order"},
        },
    )
    staff = login(app.test_client(), analyst)
    queue = staff.get("/cases/?view=removal_reported").get_data(as_text=True)
    assert sent.cases[0].reference in queue and sent.cases[1].reference not in queue
    assert "removal reported" in queue

    page = staff.get(f"/cases/{sent.cases[0].id}").get_data(as_text=True)
    assert "What the provider answered" in page and "Example Hosting Ltd" in page
    reported = reload(sent.cases[0]).removal_reported_at
    # confirm_takedown starts at the reported time, for the analyst to verify.
    assert f'value="{input_value(reported, context.timezone())}"' in page

    declined = staff.get(f"/cases/{sent.cases[1].id}").get_data(as_text=True)
    assert "Provider says: cannot remove" in declined and "Needs a court order" in declined
