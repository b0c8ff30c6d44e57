// The independent SOAP server of the interop tests (tests/it/node_soap.rs): node-soap serving a
// fixture's WSDL with the implementation of `services.js`, on a loopback port it prints.
// Usage: node server.js <fixture> <wsdl> <path> [soap12]
'use strict';
const fs = require('fs');
const http = require('http');
const soap = require('soap');
const fixtures = require('./services.js');

const [fixture, wsdlPath, path, version] = process.argv.slice(2);
const implementation = fixtures[fixture];
if (!implementation) {
  console.error(`no implementation for fixture ${fixture}`);
  process.exit(2);
}
const wsdl = fs.readFileSync(wsdlPath, 'utf8');
const server = http.createServer((request, response) => {
  response.statusCode = 404;
  response.end();
});
server.listen(0, '127.0.0.1', () => {
  const options = {
    path,
    services: implementation.services,
    xml: wsdl,
    forceSoap12Headers: version === 'soap12',
    oneWay: implementation.oneWay || {},
  };
  const listener = soap.listen(server, options);
  for (const header of implementation.headers || []) {
    listener.addSoapHeader(header);
  }
  process.stdout.write(`${server.address().port}\n`);
});
// The test closes stdin when it is done (or dies): stop then.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
