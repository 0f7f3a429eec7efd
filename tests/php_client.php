<?php
// An independent SOAP client: PHP's SoapClient, driven by the mock's WSDL alone.
// Usage: php php_client.php BASE_URL ACCOUNT PASSWORD VERSION(11|12)
[$_, $base, $account, $password, $version] = $argv;
ini_set('soap.wsdl_cache_enabled', '0');
$client = new SoapClient("$base/WebService.asmx?WSDL", [
    'soap_version' => $version === '12' ? SOAP_1_2 : SOAP_1_1,
    'exceptions' => true,
    'trace' => true,
]);
$sms = ['Msisdns' => '8613800138000,8613800000002', 'SMSContent' => 'PHP 你好【华信】', 'PlanSendTime' => null, 'ExtNumber' => '12'];
$reply = $client->SendI18NSms(['userName' => $account, 'password' => $password, 'sms' => $sms]);
$hybrid = $client->SendHybridSms(['userName' => $account, 'password' => 'wrong', 'sms' => $sms]);
echo json_encode([
    'i18n' => $reply->SendI18NSmsResult,
    'hybrid' => $hybrid->SendHybridSmsResult,
    'request_headers' => $client->__getLastRequestHeaders(),
], JSON_UNESCAPED_UNICODE), "\n";
