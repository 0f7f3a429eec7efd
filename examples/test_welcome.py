def test_welcome_sms(ipyy_mock):
    ipyy_mock.soap_client().send_i18n_sms("8613800138000", "欢迎【华信】").raise_for_status()
    [message] = ipyy_mock.messages(mobile="8613800138000")
    assert message["content"] == "欢迎【华信】" and message["status"] == "delivered"
