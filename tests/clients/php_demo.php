<?php
// The vendor's PHP demo (WsMessageSend::send), replayed against the mock: the same SoapClient call on the same
// WSDL URL (lower-case path, "?wsdl"), the same request array (PlanSendTime only when set), the same reading of
// the reply (->SendSmsResult, then Description, StatusCode, Amount, SuccessCounts). tests/test_independent_clients.py
// runs it and checks what the demo would have shown its user.
// Usage: php php_demo.php BASE_URL USERNAME PASSWORD MOBILES CONTENT [PLANSENDTIME]
[$_, $base, $username, $password, $mobiles, $content] = $argv;
$plansendtime = $argv[6] ?? null;
$extnumber = '';

// From here to $data, the demo's own code: only the WSDL address is the mock's, and its print_r($sms) is left out
// (it would mix the array into the JSON this script prints).
$client = new SoapClient("$base/webservice.asmx?wsdl");
$sms = array(
    'Msisdns' => $mobiles,
    'SMSContent' => $content,
    'ExtNumber' => $extnumber,
);
if ($plansendtime != null && $plansendtime != '') {
    $sms['PlanSendTime'] = $plansendtime;
}
$body = array(
    'userName' => $username,
    'password' => $password,
    'sms' => $sms,
);
$result = $client->__call("SendSms", array($body));
if (is_soap_fault($result)) {
    echo json_encode(['fault' => [$result->faultcode, $result->faultstring]], JSON_UNESCAPED_UNICODE), "\n";
    exit(1);
}
$data = $result->SendSmsResult;

// What the demo prints for its user: these four members, as PHP read them.
echo json_encode([
    'Description' => $data->Description,
    'StatusCode' => $data->StatusCode,
    'Amount' => $data->Amount,
    'SuccessCounts' => $data->SuccessCounts,
], JSON_UNESCAPED_UNICODE), "\n";
