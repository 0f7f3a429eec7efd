<?php
// An independent SOAP client: PHP's SoapClient, driven by the WSDL the mock serves and nothing else
// (tests/test_independent_clients.py runs it with the calls of tests/clients/scenario.py).
// Usage: php php_client.php BASE_URL VERSION(11|12) (OP USER PASSWORD MSISDNS CONTENT PLAN)...
//   PLAN is "-" for none (SoapClient writes xsi:nil for the nillable PlanSendTime) or a date-time.
// Prints one JSON array, one {"op", "result", "content_type"} per call: the result's members as SoapClient read
// them, "type" the class the classmap gave it (SoapClient picks it from xsi:type; a result without one would come
// out as the declared SendResultBase), Errors as a list; "content_type" is the request's Content-Type header.
class SendResultBase {}
class SendResult extends SendResultBase {}
class I18NSendResult extends SendResultBase {}
class HybridSendResult {}

$base = $argv[1];
$version = $argv[2];
ini_set('soap.wsdl_cache_enabled', '0');
$client = new SoapClient("$base/WebService.asmx?WSDL", [
    'soap_version' => $version === '12' ? SOAP_1_2 : SOAP_1_1,
    'exceptions' => true,
    'trace' => true,
    'connection_timeout' => 30,
    'classmap' => [
        'SendResultBase' => 'SendResultBase',
        'SendResult' => 'SendResult',
        'I18NSendResult' => 'I18NSendResult',
        'HybridSendResult' => 'HybridSendResult',
    ],
]);

// An ArrayOfString as SoapClient gives it: absent, one <string> as a string, several as an array.
function strings($value) {
    if ($value === null) return null;
    if (!isset($value->string)) return [];
    return is_array($value->string) ? $value->string : [$value->string];
}

function result($r) {
    if ($r === null) return null;
    $out = ['type' => get_class($r)];
    foreach (get_object_vars($r) as $name => $value) {
        $out[$name] = $value;
    }
    foreach (['Errors', 'ErrorsCode'] as $name) {
        if (array_key_exists($name, $out)) $out[$name] = strings($out[$name]);
    }
    $nullable = $r instanceof SendResultBase ? ['Description', 'MsgId', 'Errors'] : ['Description', 'MsgId', 'ErrorsCode'];
    foreach ($nullable as $name) {  // left out of the reply when null
        if (!array_key_exists($name, $out)) $out[$name] = null;
    }
    unset($out['AlterSendResult']);
    return $out;
}

function content_type($headers) {
    foreach (explode("\r\n", $headers) as $line) {
        if (stripos($line, 'Content-Type:') === 0) return trim(substr($line, 13));
    }
    return null;
}

$results = [];
for ($i = 3; $i + 5 < count($argv); $i += 6) {
    [$op, $user, $password, $msisdns, $content, $plan] = array_slice($argv, $i, 6);
    $when = $plan === '-' ? null : $plan;
    try {
        if ($op === 'HybridSend') {
            $body = ['Account' => $user, 'Password' => $password, 'SMSContent' => $content, 'ExtNumber' => '',
                     'PlanSendTime' => $when];
            $reply = $client->HybridSend(['body' => $body])->HybridSendResult;
        } elseif ($op === 'SendMms') {
            $text = ['Name' => '1.txt', 'ElementType' => 'Text', 'Base64Text' => base64_encode($content)];
            $mms = ['Msisdns' => $msisdns, 'Subject' => $content, 'ExtNumber' => '', 'PlanSendTime' => $when,
                    'Elements' => ['MmsElement' => [$text]]];
            $reply = $client->SendMms(['userName' => $user, 'password' => $password, 'mms' => $mms])->SendMmsResult;
        } else {
            $sms = ['Msisdns' => $msisdns, 'SMSContent' => $content, 'ExtNumber' => '', 'PlanSendTime' => $when];
            $member = $op . 'Result';
            $reply = $client->$op(['userName' => $user, 'password' => $password, 'sms' => $sms])->$member;
        }
        $result = result($reply);
    } catch (SoapFault $fault) {
        $result = ['error' => "SoapFault {$fault->faultcode}: {$fault->getMessage()}"];
    }
    $results[] = ['op' => $op, 'result' => $result, 'content_type' => content_type($client->__getLastRequestHeaders())];
}
echo json_encode($results, JSON_UNESCAPED_UNICODE), "\n";
