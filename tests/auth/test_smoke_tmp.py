from tests.conftest import login

def test_login_works(client, make_user):
    user = make_user()
    r = login(client, user)
    assert r.status_code == 302
    assert "Welcome" in client.get("/").get_data(as_text=True)
